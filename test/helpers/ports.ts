import * as net from 'node:net';

/** Two distinct free loopback ports, both held until both are known. */
export async function freePortPair(): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()];
  const ports = await Promise.all(
    servers.map(
      (srv) =>
        new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
        }),
    ),
  );
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return [ports[0], ports[1]];
}
