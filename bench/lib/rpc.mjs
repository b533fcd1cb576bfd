// A child process of the bench answers commands from the orchestrator over the IPC channel.
// Both sides live here so the protocol is in one place: `serve(handlers)` in the child,
// `spawnChild(file)` → `{ call(cmd, args), pid, kill() }` in the parent.
import { fork } from 'node:child_process';

/** Monotonic milliseconds, comparable across processes on one machine (CLOCK_MONOTONIC). */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export function serve(handlers) {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unknown command ${cmd}`);
      process.send({ id, result: await handler(args ?? {}) });
    } catch (err) {
      process.send({ id, error: String(err?.stack ?? err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}

export async function spawnChild(file, { execArgv = [], env = {} } = {}) {
  const child = fork(file, [], { execArgv, env: { ...process.env, ...env }, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let next = 0;
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
    child.on('message', function onReady(m) {
      if (m?.ready) { child.off('message', onReady); resolve(); }
    });
  });
  child.removeAllListeners('exit');
  child.on('exit', (code, signal) => {
    for (const { reject } of pending.values()) reject(new Error(`${file} exited (${code ?? signal})`));
    pending.clear();
  });
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    m.error ? p.reject(new Error(m.error)) : p.resolve(m.result);
  });
  return {
    pid: child.pid,
    call(cmd, args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
