/** What a sandboxed agent sees of its process: its working directory and its whole process.env view. */
export async function probe() {
  return { cwd: process.cwd(), env: { ...process.env } };
}
