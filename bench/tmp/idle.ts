import { Worker } from 'node:worker_threads';
const hwm = () => (require('fs').readFileSync('/proc/self/status','utf8').match(/VmRSS.*/)[0]);
console.log('start', hwm());
const n = Number(process.argv[2] ?? 2);
const mode = process.argv[3] ?? 'tsx';
const ws: Worker[] = [];
for (let i = 0; i < n; i++) {
  const code = mode === 'tsx' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__dirname + '/../../src/copy/copy-worker.ts')});` : `require('better-sqlite3'); require('worker_threads').parentPort.on('message',()=>{})`;
  ws.push(new Worker(code, { eval: true }));
}
setTimeout(() => { console.log(n, mode, hwm()); process.exit(0); }, 3000);
