#!/usr/bin/env node
// Print {"dotenv@VERSION": dotenv.parse(FILE), ...} as JSON for stackwire's round-trip tests,
// once per installed dotenv major version (see package.json) and, where the version has it,
// once more with the `fast` parser option.
//
// Usage: node tests/readers/read_node_dotenv.js FILE
'use strict'

const fs = require('fs')

if (process.argv.length !== 3) {
  console.error('usage: read_node_dotenv.js FILE')
  process.exit(2)
}
const text = fs.readFileSync(process.argv[2]) // a Buffer, as dotenv.config() passes it
const result = {}
for (const pkg of ['dotenv-16', 'dotenv-17', 'dotenv']) {
  const dotenv = require(pkg)
  const version = require(`${pkg}/package.json`).version
  result[`dotenv@${version}`] = dotenv.parse(text)
  if (Number(version.split('.')[0]) >= 18) {
    result[`dotenv@${version} fast`] = dotenv.parse(text, { fast: true })
  }
}
process.stdout.write(JSON.stringify(result) + '\n')
