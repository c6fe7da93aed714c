// The proxier's pure core: intent from API objects, upstream-compatible names, the nftables and
// iptables rule builders, stale UDP conntrack computation and Prometheus histograms.
export * from './service-ports.ts';
export * from './names.ts';
export * from './hash.ts';
export * from './nft-rules.ts';
export * from './iptables-rules.ts';
export * from './conntrack.ts';
export * from './metrics.ts';
