// kafkajs as a test driver (tests/src/clients/kafkajs.rs):
//   node produce.mjs BOOTSTRAP TOPIC IDEMPOTENT(true|false) ACKS(-1|1|0) CODEC(none|gzip) < records
// Reads records in the driver line format (tests/src/clients/lines.rs), sends them with one
// producer in `producer.send` calls of CHUNK records, and prints a D line per record: its
// partition and offset (the partition's baseOffset in that send's response plus the record's
// place among that send's records for the partition; -1 with acks=0). Records that name no
// partition get the one kafkajs's DefaultPartitioner picks, asked here before the send so the
// record's partition is known (the same call kafkajs makes inside send). kafkajs logs to stderr.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs')

const CHUNK = 250
const [bootstrap, topic, idempotentArg, acksArg, codec] = process.argv.slice(2)
const idempotent = idempotentArg === 'true'
const acks = Number(acksArg)
const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[codec]
if (compression === undefined) throw new Error(`kafkajs has no built-in codec ${codec}`)

const nullable = f => (f === '-' ? null : f === '=' ? Buffer.alloc(0) : Buffer.from(f, 'hex'))
const records = readFileSync(0, 'utf8').split('\n').filter(l => l.length > 0).map(line => {
  const [p, k, v, h] = line.split('\t')
  const headers = {}
  for (const pair of h ? h.split(',') : []) {
    const [hk, hv] = pair.split(':')
    const key = nullable(hk).toString('utf8')
    if (key in headers) throw new Error(`header ${key} twice: kafkajs headers are an object`)
    headers[key] = nullable(hv)
  }
  return { partition: p === '-' ? undefined : Number(p), key: nullable(k), value: nullable(v), headers }
})

const toStderr = () => ({ namespace, level, log }) => {
  process.stderr.write(`${level} ${namespace} ${log.message} ${JSON.stringify(log)}\n`)
}
const kafka = new Kafka({
  clientId: `kpp-kafkajs-${idempotent ? 'idempotent' : 'plain'}`,
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  logCreator: toStderr,
})
const admin = kafka.admin()
await admin.connect()
const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
await admin.disconnect()
const partitionMetadata = topics[0].partitions
const partitioner = Partitioners.DefaultPartitioner()

const producer = kafka.producer({ idempotent, allowAutoTopicCreation: false, ...(idempotent ? { maxInFlightRequests: 1 } : {}) })
await producer.connect()
const out = []
for (let start = 0; start < records.length; start += CHUNK) {
  const chunk = records.slice(start, start + CHUNK).map((r, j) => {
    const message = { key: r.key, value: r.value, headers: r.headers }
    const partition = r.partition ?? partitioner({ topic, partitionMetadata, message })
    return { index: start + j, message: { ...message, partition } }
  })
  const metadata = await producer.send({ topic, acks, compression, messages: chunk.map(c => c.message) })
  const base = new Map(metadata.map(m => [m.partition, m.baseOffset]))
  const seen = new Map()
  for (const { index, message } of chunk) {
    const j = seen.get(message.partition) ?? 0
    seen.set(message.partition, j + 1)
    const b = base.get(message.partition)
    const offset = acks === 0 || b === undefined ? -1n : BigInt(b) + BigInt(j)
    out.push(`D\t${index}\t${message.partition}\t${offset}\n`)
  }
}
await producer.disconnect()
process.stdout.write(out.join(''))
