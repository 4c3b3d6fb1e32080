/**
 * Agent-protocol credentials are told apart by their prefix: one `Authorization:
 * Bearer` header or `--token` flag can hold either. Shared by the server and the
 * agent runtime, so this module imports nothing.
 */
export const AGENT_TOKEN_PREFIX = 'dagt_';
export const REGISTRATION_TOKEN_PREFIX = 'dreg_';
