import type { AddressInfo } from 'node:net';
import { ConfigError, parseServeOptions, type ServeOptions } from '../config/config.ts';
import { createApp } from '../server/app.ts';
import { createHttpServer } from '../server/http-server.ts';
import { createLogger, type LogFormat } from '../server/logger.ts';
import { VERSION } from '../server/ops.ts';
import { startConsoleAssets } from '../server/console-assets.ts';

export async function serveCommand(options: ServeOptions & { logFormat?: LogFormat }): Promise<void> {
  let config;
  try {
    config = parseServeOptions(options);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`amiforge serve: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, options.logFormat ?? 'auto');
  let app;
  try {
    app = await createApp(config, log);
  } catch (err) {
    console.error(`amiforge serve: ${(err as Error).message}`);
    process.exit(2);
  }
  const server = createHttpServer(app, log);
  // The web console's bundle is built (or found built) while the server starts; its pages wait for it.
  void startConsoleAssets(config.buildDir, log);
  server.keepAliveTimeout = 65_000;
  server.on('error', (err) => {
    console.error(`amiforge serve: cannot listen on ${config.host}:${config.port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, async () => {
    const { port } = server.address() as AddressInfo;
    // Listening on every address: this machine's loopback serves nodes on the same machine; nodes
    // elsewhere need --advertise-url.
    const reachable = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
    const host = reachable.includes(':') ? `[${reachable}]` : reachable;
    try {
      // Other nodes learn where to forward only once this one answers there.
      await app.cluster.announce(`http://${host}:${port}`, VERSION);
    } catch (err) {
      console.error(`amiforge serve: cannot register node ${config.nodeId} in the store: ${(err as Error).message}`);
      process.exit(1);
    }
    log.info({ nodeId: config.nodeId, host: config.host, port, dataDir: config.dataDir, database: config.database.kind === 'postgres' ? config.database.display : 'sqlite', authMode: app.authenticator.mode, endpoint: `http://${config.host}:${port}` }, 'amiforge listening');
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close();
    server.closeAllConnections();
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
