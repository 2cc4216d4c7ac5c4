// A control server in a process of its own, as the engine is: for the tests that measure how a
// well-behaved client fares while others flood the server (clients in the test process must not
// share the server's event loop, or they would measure themselves).
//
//   node control-server-child.js SOCKET_PATH     prints "ready", stops on SIGTERM
import { serveStatus } from './control.js';

const [path] = process.argv.slice(2);
const server = await serveStatus(path, () => ({
  state: 'running',
  pid: process.pid,
  counters: { translated46: 1 },
}));
process.stdout.write('ready\n');
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
