import type { AddressInfo } from 'node:net';
import { ConfigError, parseServeOptions, type ServeOptions } from '../config/config.ts';
import { createApp } from '../server/app.ts';
import { createHttpServer } from '../server/http-server.ts';
import { createLogger } from '../server/logger.ts';

export async function serveCommand(options: ServeOptions): Promise<void> {
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
  const log = createLogger(config.logLevel);
  let app;
  try {
    app = await createApp(config, log);
  } catch (err) {
    console.error(`amiforge serve: ${(err as Error).message}`);
    process.exit(2);
  }
  const server = createHttpServer(app, log);
  server.keepAliveTimeout = 65_000;
  server.on('error', (err) => {
    console.error(`amiforge serve: cannot listen on ${config.host}:${config.port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const { port } = server.address() as AddressInfo;
    log.info({ host: config.host, port, dataDir: config.dataDir, database: config.database.kind === 'postgres' ? config.database.display : 'sqlite', authMode: app.authenticator.mode, endpoint: `http://${config.host}:${port}` }, 'amiforge listening');
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
