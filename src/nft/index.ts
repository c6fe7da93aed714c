// The nftables model: types, the renderer, transactions (full replace and diff) and the evaluator.
export * from './types.ts';
export * from './render.ts';
export * from './transaction.ts';
export * from './evaluate.ts';
