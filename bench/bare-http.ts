/**
 * Child process: the "bare node http" ceiling. Listens on 127.0.0.1:0, writes
 * `{"port":N}` as its first stdout line, and answers every request with 200
 * and the fixed JSON body given as argv[2] after draining the request body.
 */
import http from 'node:http';

const body = Buffer.from(process.argv[2] ?? '{}');
const server = http.createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
