#!/usr/bin/env node
/** The `redisdb` command: runs main() with the process's arguments and sets its exit status. */
import { main } from './main.ts';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
