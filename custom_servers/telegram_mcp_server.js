#!/usr/bin/env node
// The seed config starts Telegram with `node ./custom_servers/telegram_mcp_server.js`; our server
// is Python. This starts `python -m custom_servers.telegram_mcp_server` with stdio passed through,
// using $PYTHON, else the project's .venv, else python3.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const venv = path.join(root, ".venv", "bin", "python");
const python = process.env.PYTHON || (fs.existsSync(venv) ? venv : "python3");
const pythonPath = [root, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
const child = spawn(python, ["-m", "custom_servers.telegram_mcp_server", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PYTHONPATH: pythonPath },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  process.stderr.write(`telegram_mcp_server.js: cannot start ${python}: ${error.message}\n`);
  process.exit(127);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
