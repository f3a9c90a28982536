// Adds jobs for worker.js: `node enqueue.js replay [limit]`, `node enqueue.js alerts`, or
// `node enqueue.js schedule` to register the repeatable jobs (replay every 5 minutes with
// limit 50, alerts every 15 minutes). Prints the job ids.
'use strict';
const { Queue } = require('bullmq');

const redisUrl = new URL(process.env.BULLMQ_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379/0');
const connection = {
  host: redisUrl.hostname,
  port: Number(redisUrl.port || 6379),
  db: Number((redisUrl.pathname || '/0').slice(1) || 0),
  password: redisUrl.password || undefined,
};
const opts = { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false };

async function main() {
  const [what = 'replay', arg] = process.argv.slice(2);
  const replay = new Queue('provider-replay', { connection });
  const alerts = new Queue('provider-alerts', { connection });
  const ids = [];
  if (what === 'replay') ids.push((await replay.add('scheduled', { limit: Number(arg || 50) }, opts)).id);
  else if (what === 'alerts') ids.push((await alerts.add('alerts', {}, opts)).id);
  else if (what === 'schedule') {
    ids.push((await replay.add('scheduled', { limit: 50 }, { ...opts, repeat: { pattern: '*/5 * * * *' } })).id);
    ids.push((await alerts.add('alerts', {}, { ...opts, repeat: { pattern: '*/15 * * * *' } })).id);
  } else throw new Error(`unknown: ${what}`);
  console.log(JSON.stringify(ids));
  await replay.close();
  await alerts.close();
}
main().catch((e) => { console.error(e.message); process.exit(1); });
