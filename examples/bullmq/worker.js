// A BullMQ worker in front of the smplat CLI (docs/CELERY.md, "BullMQ"): for each job it runs
// `provider-replay scheduled --limit N` (queue provider-replay) or `provider-alerts` (queue
// provider-alerts) and returns the summary the command prints. A non-zero exit throws, so
// BullMQ's attempts and backoff apply. The job runs in a child process, so the event loop
// stays free to renew the job's lock.
//
//   REDIS_URL=redis://127.0.0.1:6379/0 SMPLAT_BIN_DIR=/path/to/build/bin node worker.js
'use strict';
const { Worker } = require('bullmq');
const { execFile } = require('child_process');
const path = require('path');

const redisUrl = new URL(process.env.BULLMQ_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379/0');
const connection = {
  host: redisUrl.hostname,
  port: Number(redisUrl.port || 6379),
  db: Number((redisUrl.pathname || '/0').slice(1) || 0),
  password: redisUrl.password || undefined,
  maxRetriesPerRequest: null,
};
const binDir = process.env.SMPLAT_BIN_DIR || '';
const timeoutMs = Number(process.env.SMPLAT_JOB_TIMEOUT_MS || 600000);

function run(program, args) {
  return new Promise((resolve, reject) => {
    execFile(path.join(binDir, program), args, { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${program} ${args.join(' ')} failed (${err.code}): ${stderr.trim().split('\n').pop()}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout));
        } catch (e) {
          reject(new Error(`${program} printed no JSON: ${stdout.slice(0, 200)}`));
        }
      });
  });
}

const handlers = {
  'provider-replay': (job) => {
    const limit = job.data && Number.isInteger(job.data.limit) ? job.data.limit : 50;
    return run('provider-replay', ['scheduled', '--limit', String(limit)]);
  },
  'provider-alerts': () => run('provider-alerts', []),
};

const queues = (process.env.SMPLAT_BULLMQ_QUEUES || 'provider-replay,provider-alerts').split(',');
const workers = queues.map((q) => new Worker(q, handlers[q], { connection, concurrency: 1 }));
for (const w of workers) {
  w.on('completed', (job, result) => console.log(JSON.stringify({ queue: w.name, job: job.id, result })));
  w.on('failed', (job, err) => console.error(JSON.stringify({ queue: w.name, job: job && job.id, error: err.message })));
}

async function shutdown() {
  await Promise.all(workers.map((w) => w.close()));
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
