// Which official Node SDK the suites drive, and clients for it. tests/tests/node_sdk.rs runs every
// suite once per SDK: OPENAI_SDK_PACKAGE names the package folder (`openai` for the current 7.x,
// `openai-v6` for the 6.x alias in package.json), OPENAI_BASE_URL the server under test.
// Each suite gets its own tenant (API key), so suites running side by side never see each
// other's objects in a list.
const path = require('node:path');

// The Rust test names the Node it installed; running on any other (the machine's own) is a setup bug.
const wantedNode = process.env.OPENAI_SDK_NODE_VERSION;
if (wantedNode && process.version !== `v${wantedNode}`) {
  throw new Error(`the suites must run on Node v${wantedNode}, not ${process.version}`);
}

const PACKAGE = process.env.OPENAI_SDK_PACKAGE || 'openai';
const OpenAI = require(PACKAGE);
const { VERSION } = require(`${PACKAGE}/version`);
const MAJOR = Number(VERSION.split('.')[0]);

// A tenant key per SDK run and suite file: `sk-node-<package>-<suite>`.
function tenantKey(suiteFile, suffix = '') {
  return `${process.env.OPENAI_API_KEY || 'sk-node-sdk'}-${PACKAGE}-${path.basename(suiteFile, '.test.cjs')}${suffix}`;
}

function clientFor(apiKey) {
  return new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey, maxRetries: 0 });
}

module.exports = { OpenAI, VERSION, MAJOR, PACKAGE, tenantKey, clientFor, toFile: OpenAI.toFile };
