// networking.k8s.io/v1 NetworkPolicy semantics for flatnet: the model, the explaining evaluator, the compiled
// index with its truth table and kernel lowering, manifests-to-cluster scenarios and matrix reports. Pure.
export {
  NAMESPACE_NAME_LABEL, NetpolError, buildPolicyModel, policyView, policiesSelecting, selectorMatches, cidrHolds, ipBlockHolds,
  peerHoldsPod, portAdmits, describeSelector, describePeer, describePort,
} from './model.ts';
export type {
  NetpolErrorCode, ClusterState, Direction, PodView, SelectorView, PeerView, PortView, RuleView, PolicyView, PolicyModel,
} from './model.ts';
export { evaluateConnection } from './evaluate.ts';
export type { Endpoint, Connection, RuleRef, RuleMiss, DirectionVerdict, ConnectionVerdict } from './evaluate.ts';
export { compilePolicies, computeMatrix, lowerPod } from './compile.ts';
export type {
  CompiledPeer, CompiledRule, CompiledDirection, CompiledPolicies, MatrixOptions, PolicyMatrix, IpSet, LoweredPort, LoweredAllow,
  LoweredDirection, LoweredPod,
} from './compile.ts';
export { DEFAULT_SCENARIO_POD_CIDR, FIRST_POD_IP_OFFSET, scenarioFromObjects } from './scenario.ts';
export type { ScenarioOptions, Scenario } from './scenario.ts';
export { buildMatrixReport, renderMatrixTable, renderMatrixMarkdown } from './matrix-report.ts';
export type { MatrixDirection, MatrixCell, MatrixReport } from './matrix-report.ts';
