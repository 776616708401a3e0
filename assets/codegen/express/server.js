'use strict';

// Starts {{ title_line }} on APIFORGE_LISTEN: `unix:/absolute/path.sock` or `host:port`
// (default 127.0.0.1:8000). The SQLite file comes from APIFORGE_DB (default app.db).

const fs = require('node:fs');
const http = require('node:http');
const { createApp } = require('./src/app');

function parseListen(value) {
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length);
    if (!socketPath) {
      throw new Error('APIFORGE_LISTEN=unix: needs a socket path, e.g. unix:/tmp/api.sock');
    }
    return { socketPath };
  }
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new Error(`APIFORGE_LISTEN=${value} is neither unix:/path nor host:port (e.g. 127.0.0.1:8000)`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** A socket file left behind by a previous run would make listen() fail. */
function removeStaleSocket(socketPath) {
  try {
    if (fs.lstatSync(socketPath).isSocket()) {
      fs.unlinkSync(socketPath);
    }
  } catch (error) {
    if (error.code !== 'ENOENT') {
      throw error;
    }
  }
}

async function main() {
  const listen = parseListen(process.env.APIFORGE_LISTEN || '127.0.0.1:8000');
  const app = await createApp();
  const server = http.createServer(app);
  server.on('error', (error) => {
    console.error(`cannot listen on ${process.env.APIFORGE_LISTEN || '127.0.0.1:8000'}: ${error.message}`);
    process.exit(1);
  });
  if (listen.socketPath) {
    removeStaleSocket(listen.socketPath);
    server.listen(listen.socketPath, () => console.log(`listening on unix:${listen.socketPath}`));
  } else {
    server.listen(listen.port, listen.host, () => {
      const { address, port } = server.address();
      console.log(`listening on ${address}:${port}`);
    });
  }
  const stop = () => {
    server.close(() => {
      app.locals.db.close();
      process.exit(0);
    });
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
