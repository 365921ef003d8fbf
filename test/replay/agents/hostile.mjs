// A JavaScript agent: the sandbox runs it without a TypeScript loader, so Node's permission model alone refuses these.
export async function spawnChild() {
  const cp = await import('node:child_process');
  cp.execSync('echo hi');
}

export async function startWorker() {
  const { Worker } = await import('node:worker_threads');
  new Worker('process.exit(0)', { eval: true });
}
