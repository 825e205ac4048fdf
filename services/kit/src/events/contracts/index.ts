export * from './contract.ts';
export * from './inventory.ts';
export * from './orders.ts';
export * from './payments.ts';
export { ContractRegistry, contractsByFile, registry } from './registry.ts';
export * from './users.ts';
