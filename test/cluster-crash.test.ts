// Crash safety of a whole cluster (issue "The lab"): after kill -9 of every flatnet process, `flatnet up` on the
// same name adopts what is left — running pods keep running (same processes), CNI CHECK passes, Services still
// answer — and new work is scheduled as usual.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, upCluster, waitFor, type ClusterFixture } from './support/cluster-fixture.ts';

interface Record { pid: number; agentsPid?: number; externalDnsPid?: number }

describe('a cluster after kill -9 of every flatnet process', () => {
  let c: ClusterFixture;
  before(async () => {
    c = await upCluster({ nodes: 2 });
  });
  after(async () => {
    if (c) await c.down();
  });

  const podPids = async (): Promise<Map<string, string>> => {
    const out = JSON.parse(await c.k(['get', 'pods', '-l', 'app=keep', '-o', 'json'])) as { items: { metadata: { uid: string; name: string } }[] };
    const pids = new Map<string, string>();
    for (const p of out.items) {
      const r = await run('ip', ['netns', 'pids', `fn-${c.name}-p-${p.metadata.uid.replace(/-/g, '').slice(0, 10)}`]);
      pids.set(p.metadata.name, r.stdout.trim().split('\n').sort().join(','));
    }
    return pids;
  };

  it('adopts the running pods instead of restarting them, and keeps serving', async () => {
    await c.k(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata:
  name: keep
spec:
  replicas: 2
  selector:
    matchLabels:
      app: keep
  template:
    metadata:
      labels:
        app: keep
    spec:
      containers:
      - name: nginx
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: keep
spec:
  selector:
    app: keep
  ports:
  - port: 80
`);
    await waitFor('2 running keep pods', async () => ((await c.k(['get', 'deploy', 'keep', '-o', 'jsonpath={.status.readyReplicas}'])) === '2' ? true : undefined), 60_000);
    const before = await podPids();
    assert.equal(before.size, 2);
    for (const pids of before.values()) assert.ok(pids.length > 0, 'pod processes found');

    const rec = JSON.parse(readFileSync(join(c.env['FLATNET_HOME'] ?? '', 'clusters', c.name, 'cluster.json'), 'utf8')) as Record;
    for (const pid of [rec.pid, rec.agentsPid, rec.externalDnsPid]) if (pid) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));

    const up = await c.flatnet(['up', '--name', c.name, '--nodes', '2', '--wait']);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /lab: adopted/);

    await waitFor('the keep pods to be Running and ready again', async () => ((await c.k(['get', 'deploy', 'keep', '-o', 'jsonpath={.status.readyReplicas}'])) === '2' ? true : undefined), 60_000);
    const after = await podPids();
    assert.deepEqual(after, before, 'the same pod processes run: nothing was restarted');
    const restarts = await c.k(['get', 'pods', '-l', 'app=keep', '-o', 'jsonpath={.items[*].status.containerStatuses[0].restartCount}']);
    assert.deepEqual(restarts.split(' '), ['0', '0']);
    const log = readFileSync(join(c.env['FLATNET_HOME'] ?? '', 'clusters', c.name, 'agents.log'), 'utf8');
    assert.doesNotMatch(log, /failed CNI CHECK/);

    // The Service answers through kube-proxy rules (the node namespaces kept them), and new pods still start.
    await c.k(['run', 'probe', '--image=nicolaka/netshoot', '--', 'sleep', '600']);
    await waitFor('the probe pod', async () => ((await c.k(['get', 'pod', 'probe', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined), 60_000);
    const body = await c.k(['exec', 'probe', '--', 'curl', '-s', '-m', '5', 'http://keep.default/']);
    assert.match(body, /Welcome to nginx!/);
  });
});
