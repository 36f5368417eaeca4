#!/usr/bin/env node
require('./register.js');
require('../src/cli.ts');
