import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageReference, resolveLaunch } from './image-table.ts';

describe('image references', () => {
  const table: [string, string, string][] = [
    ['nginx', 'docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx', 'docker.io/library/nginx:1.25'],
    ['docker.io/library/nginx:latest', 'docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['nicolaka/netshoot', 'docker.io/nicolaka/netshoot', 'docker.io/nicolaka/netshoot:latest'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.39', 'registry.k8s.io/e2e-test-images/agnhost', 'registry.k8s.io/e2e-test-images/agnhost:2.39'],
    ['localhost:5000/app@sha256:abc', 'localhost:5000/app', 'localhost:5000/app@sha256:abc'],
  ];
  for (const [raw, repo, normalized] of table) {
    it(`normalises ${raw} to ${normalized}`, () => {
      const r = parseImageReference(raw);
      assert.equal(r?.repository, repo);
      assert.equal(r?.normalized, normalized);
    });
  }
  it('rejects malformed references', () => {
    assert.equal(parseImageReference('Bad Image'), undefined);
    assert.equal(parseImageReference(''), undefined);
  });
});

describe('launch resolution', () => {
  const rows: { name: string; image: string; command?: string[]; args?: string[]; exe: string; args2: string[] }[] = [
    { name: 'busybox without a command runs sh', image: 'busybox:1.36', exe: 'applet:sh', args2: [] },
    { name: 'nginx from a mirror runs the nginx program', image: 'mirror.gcr.io/library/nginx:1.25', exe: 'program:nginx', args2: ['nginx', '-g', 'daemon off;'] },
    { name: 'agnhost args follow its /agnhost entrypoint', image: 'registry.k8s.io/e2e-test-images/agnhost:2.39', args: ['netexec', '--http-port=8080'], exe: 'program:agnhost', args2: ['netexec', '--http-port=8080'] },
    { name: 'an explicit /agnhost command maps to the program', image: 'k8s.gcr.io/e2e-test-images/agnhost:2.20', command: ['/agnhost', 'serve-hostname'], exe: 'program:agnhost', args2: ['serve-hostname'] },
    { name: 'a command replaces entrypoint and cmd', image: 'busybox', command: ['/bin/sleep'], args: ['5'], exe: 'applet:sleep', args2: ['5'] },
    { name: 'http-echo runs with its args', image: 'hashicorp/http-echo:1.0', args: ['-text=hi'], exe: 'program:http-echo', args2: ['-text=hi'] },
    { name: 'netshoot commands are host files on PATH', image: 'nicolaka/netshoot', command: ['curl', '-s', 'x'], exe: 'file:curl', args2: ['-s', 'x'] },
    { name: 'an unknown image with a command runs the command', image: 'python:3.12', command: ['sleep', '1'], exe: 'file:sleep', args2: ['1'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = resolveLaunch(row.image, row.command, row.args);
      assert.ok(r.ok);
      if (!r.ok) return;
      const e = r.executable;
      assert.equal(e.kind === 'program' ? `program:${e.program}` : e.kind === 'applet' ? `applet:${e.applet}` : `file:${e.file}`, row.exe);
      assert.deepEqual(r.args, row.args2);
    });
  }

  it('fails an unknown image without a command with ErrImagePull listing the supported images', () => {
    const r = resolveLaunch('python:3.12', undefined, undefined);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.reason, 'ErrImagePull');
    assert.match(r.message, /^Failed to pull image "python:3\.12"/);
    assert.match(r.message, /busybox, nginx, nicolaka\/netshoot/);
  });

  it('reports InvalidImageName for a malformed reference', () => {
    const r = resolveLaunch('UPPER CASE', ['sh'], undefined);
    assert.equal(r.ok ? '' : r.reason, 'InvalidImageName');
  });
});
