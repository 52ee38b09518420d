import { UserError } from '../../core/errors.js';
import type { SinkSpec } from '../config.js';
import { JsonlSink } from './jsonl.js';
import { NatsSink } from './nats.js';
import { RedisSink } from './redis.js';
import type { Sink } from './types.js';
import { WebhookSink } from './webhook.js';

export type { Sink } from './types.js';

/** Builds a sink; configuration it needs from the environment (the webhook secret) is checked here, before any scan. */
export function createSink(spec: SinkSpec): Sink {
  switch (spec.type) {
    case 'nats':
      return new NatsSink(spec);
    case 'redis':
      return new RedisSink(spec);
    case 'jsonl':
      return new JsonlSink(spec);
    case 'webhook': {
      const secret = process.env[spec.secretEnv];
      if (secret === undefined || secret === '') {
        throw new UserError(`sink ${spec.name}: set the webhook's shared HMAC secret in the environment variable ${spec.secretEnv}`);
      }
      return new WebhookSink(spec, secret);
    }
  }
}
