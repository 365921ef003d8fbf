/**
 * Environment variable names that configure a process rather than an agent: the Node runtime and its loaders, the
 * dynamic linker, OpenSSL, proxies, the package manager and retrace itself. A trace file is untrusted input, so values
 * under these names are never recorded, never imported and never applied to a sandboxed process from a trace.
 */
const PROCESS_CONTROL_PREFIXES = [
  'NODE_',
  'UV_',
  'LD_',
  'DYLD_',
  'OPENSSL_',
  'SSL_',
  'TSX_',
  'ESBUILD_',
  'NPM_CONFIG_',
  'RETRACE_',
  'V8_',
  'MALLOC_',
  'GLIBC_',
  'VITEST',
] as const;

const PROCESS_CONTROL_NAMES = new Set([
  'PATH',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'GLOBAL_AGENT_HTTP_PROXY',
  'IFS',
  'SHELL',
  'BASH_ENV',
  'ENV',
  'PS4',
  'COREPACK_HOME',
  'NVM_DIR',
]);

/** True for a name that influences Node, a loader, the dynamic linker, networking proxies or retrace's own config. */
export function isProcessControlEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  // the one NODE_ name that is application configuration, not Node's: agents and frameworks branch on it
  if (upper === 'NODE_ENV') return false;
  if (PROCESS_CONTROL_NAMES.has(upper)) return true;
  return PROCESS_CONTROL_PREFIXES.some((prefix) => upper.startsWith(prefix));
}
