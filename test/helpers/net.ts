/**
 * Network endpoints a test makes for itself, instead of assuming something about the machine
 * (that port 9 is closed, that a port found free is still free later).
 */
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * `http://127.0.0.1:<port><path>` on a port this function bound and closed again: nothing listens
 * there, so a connection is refused (unless another process binds that very port in the few
 * milliseconds before the test connects).
 */
export async function refusedURL(path = '/'): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return `http://127.0.0.1:${address.port}${path}`;
}
