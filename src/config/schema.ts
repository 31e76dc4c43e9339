import { resolve } from 'node:path';
import { z } from 'zod';
import { whenSchema } from '../route/conditions';
import { destinationSchema } from '../dispatch/destinations/registry';
import { aeTitle, configPath, ConfigPathSchema, duration, maxPduLength } from './fields';
import { parseCidr } from '../net/cidr';
import { isLoopbackHost } from '../net/loopback';

/**
 * The configuration file's schema. Every key is documented in docs/configuration.md;
 * unknown keys are errors so that a typo never silently falls back to a default.
 */

/** The model shipped with bodyroute (dist/src/config → repository root). */
export const SHIPPED_MODEL = resolve(__dirname, '..', '..', '..', 'models', 'bodyregion-cnn.json');

const listenTlsSchema = (path: ConfigPathSchema) =>
  z
    .object({
      /** PEM files. */
      cert: path,
      key: path,
      /** CA bundle used to verify client certificates. */
      ca: path.optional(),
      /** Refuse peers without a certificate signed by `ca`. */
      requireClientCertificate: z.boolean().default(false),
    })
    .strict();

const listenSchema = (path: ConfigPathSchema) =>
  z
    .object({
      host: z.string().default('0.0.0.0'),
      /** 0 = any free port (the bound port is logged). */
      port: z.number().int().min(0).max(65535).default(11112),
      aeTitle: aeTitle.default('BODYROUTE'),
      /** More called AE titles answered on the same port (a scanner sends to NEURO or BODY), for `when.calledAeTitle` routes. */
      aeTitles: z.array(aeTitle).default([]),
      /** Calling AE titles allowed to associate; empty = any. */
      allowedCallingAeTitles: z.array(aeTitle).default([]),
      /** Peer addresses allowed to associate, as CIDR blocks or single addresses; empty = any. */
      allowedPeers: z.array(z.string().refine((c) => parseCidr(c) !== undefined, 'not an IPv4/IPv6 address or CIDR block (e.g. 10.1.0.0/16)')).default([]),
      /** Largest P-DATA PDU bodyroute accepts (bytes), announced in A-ASSOCIATE-AC. */
      maxPduLength,
      /** Concurrent associations; one more is rejected (transient, local limit exceeded). */
      maxAssociations: z.number().int().min(1).default(32),
      /** Objects larger than this are answered with A700 (out of resources). */
      maxObjectBytes: z
        .number()
        .int()
        .min(1024)
        .default(4 * 1024 * 1024 * 1024),
      /** Accept SOP classes outside the standard storage list (vendor-private storage). */
      acceptNonStandardSopClasses: z.boolean().default(false),
      /** ARTIM: how long a connection may stay without an association request, and the idle limit between PDUs (ms). */
      associationTimeoutMs: duration.default(30000),
      pduTimeoutMs: duration.default(60000),
      /** Longest time one object may take to arrive (a peer trickling bytes keeps the PDU timer alive). */
      objectTimeoutMs: duration.default(600000),
      /** DICOM TLS on the listener (PS3.15 B.1); absent = plain TCP. */
      tls: listenTlsSchema(path).optional(),
    })
    .strict();

const spoolSchema = (path: ConfigPathSchema) =>
  z
    .object({
      dir: path.default('./var/spool'),
      /** C-STORE is answered A700 when less than this is free on the spool's filesystem. */
      minFreeBytes: z
        .number()
        .int()
        .nonnegative()
        .default(1024 * 1024 * 1024),
      /**
       * Slot files kept ready to receive into: a C-STORE is then answered after one fdatasync instead of an
       * fdatasync, a rename and a folder fsync (docs/architecture.md, "Durability, step by step"). 0: off.
       */
      slotFiles: z.number().int().min(0).max(256).default(0),
    })
    .strict();

const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).default(10),
    initialDelayMs: duration.default(2000),
    maxDelayMs: duration.default(60000),
    factor: z.number().min(1).default(2),
  })
  .strict();

const routeSchema = z
  .object({
    /** Conditions, all of which must hold; a rule without `when` matches every object. */
    when: whenSchema.optional(),
    to: z.array(z.string()).min(1),
    /** Keep evaluating the rules after this one matched. */
    continue: z.boolean().default(false),
  })
  .strict();

const classifierSchema = (path: ConfigPathSchema) =>
  z
    .object({
      /** Classify CT/MR images as they pass (needs a model). */
      enabled: z.boolean().default(false),
      /** Model manifest (JSON next to the .onnx); default: the model shipped in models/. */
      model: path.default(SHIPPED_MODEL),
      device: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
      /** onnxruntime threads per worker. */
      threads: z.number().int().min(1).max(64).default(1),
      /** Inference worker threads. */
      workers: z.number().int().min(1).max(16).default(1),
      /** Most queued images one model run takes (micro-batching). */
      maxBatch: z.number().int().min(1).max(256).default(16),
      /** Use the header's words (Body Part Examined, descriptions, protocol) as a prior beside the image. */
      useHeaders: z.boolean().default(true),
      /**
       * full: decode JPEG 2000 completely, as the model was trained; reduced: decode it at the resolution
       * level nearest the model's input (several times faster; the region agrees with a full decode for
       * about 98 % of images, docs/performance.md).
       */
      jpeg2000: z.enum(['full', 'reduced']).default('full'),
    })
    .strict();

const taggingSchema = z
  .object({
    /** Write the region into classified images (needs classifier.enabled). */
    enabled: z.boolean().default(true),
    /** image: tag and forward each image once classified; series: hold a series until stable, label it as a whole. */
    mode: z.enum(['image', 'series']).default('image'),
    /** Odd group for bodyroute's private block (PS3.5 7.8.1). */
    privateGroup: z
      .number()
      .int()
      .min(0x0009)
      .max(0xfffd)
      .refine((g) => g % 2 === 1, 'a private group is odd')
      .default(0x0077),
    privateCreator: z.string().min(1).max(64).default('BODYROUTE 1.0'),
    seriesDescription: z.enum(['off', 'append', 'prefix']).default('off'),
    bodyPartExamined: z.enum(['off', 'fill-if-empty', 'overwrite']).default('off'),
    /** An object the label can never be written into: forward it without the label (a label must not hold an image back) or quarantine it. */
    onFailure: z.enum(['forward-untagged', 'quarantine']).default('forward-untagged'),
  })
  .strict();

const seriesSchema = z
  .object({
    /** A series is labelled and routed once no image of it arrived for this long. */
    stableSeconds: z.number().min(0).max(3600).default(10),
    /** all: classify every slice as it arrives; sampled: hold the series, classify a sample at a stride and refine at region boundaries. */
    classify: z.enum(['all', 'sampled']).default('sampled'),
  })
  .strict();

const loggingSchema = z
  .object({
    level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    format: z.enum(['text', 'json']).default('text'),
    /** A "stats" line (memory, backlog) this often; 0 = never. */
    statsIntervalSeconds: z.number().int().min(0).max(86400).default(300),
  })
  .strict();

const pipelineSchema = z
  .object({
    /** Tries of an object whose classification, tagging, routing or commit fails, before it is quarantined. */
    maxAttempts: z.number().int().min(1).default(10),
    /** Wait before the next try (ms). */
    retryDelayMs: duration.default(5000),
  })
  .strict();

const httpTlsSchema = (path: ConfigPathSchema) =>
  z
    .object({
      /** PEM files. */
      cert: path,
      key: path,
    })
    .strict();

/** The operator's face: status page, /metrics, /healthz, /readyz (docs/operations.md). */
const httpSchema = (path: ConfigPathSchema) =>
  z
    .object({
      enabled: z.boolean().default(false),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Asked of every request but /healthz (Bearer, or as the password of HTTP Basic); required off loopback. */
      token: z.string().min(16, 'a token is at least 16 characters').optional(),
      tls: httpTlsSchema(path).optional(),
    })
    .strict()
    .superRefine((h, ctx) => {
      if (h.enabled && !h.token && !isLoopbackHost(h.host)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['token'], message: `required when http.host (${h.host}) is not a loopback address` });
      }
    });

const shutdownSchema = z
  .object({
    /** On SIGTERM/SIGINT, how long associations may take to finish the object they are sending. */
    graceSeconds: z.number().min(0).max(600).default(10),
  })
  .strict();

/** The whole file's schema; paths in it are made absolute against `baseDir` (the config file's folder). */
export function configSchema(baseDir: string) {
  const path = configPath(baseDir);
  return z
    .object({
      listen: listenSchema(path).default({}),
      spool: spoolSchema(path).default({}),
      retry: retrySchema.default({}),
      destinations: z.array(destinationSchema(path)).min(1),
      routes: z.array(routeSchema).min(1),
      classifier: classifierSchema(path).default({}),
      tagging: taggingSchema.default({}),
      series: seriesSchema.default({}),
      logging: loggingSchema.default({}),
      pipeline: pipelineSchema.default({}),
      http: httpSchema(path).default({}),
      shutdown: shutdownSchema.default({}),
    })
    .strict()
    .superRefine((cfg, ctx) => {
      const names = new Set<string>();
      cfg.destinations.forEach((d, i) => {
        if (names.has(d.name)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['destinations', i, 'name'], message: `duplicate destination name "${d.name}"` });
        }
        names.add(d.name);
      });
      cfg.routes.forEach((r, i) =>
        r.to.forEach((name, j) => {
          if (!names.has(name)) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['routes', i, 'to', j], message: `no destination named "${name}"` });
          }
        }),
      );
    });
}

export type Config = z.infer<ReturnType<typeof configSchema>>;
export type DestinationConfig = Config['destinations'][number];
export type { DimseDestinationConfig, DestinationTlsConfig } from '../dispatch/destinations/dimse';
export type { FolderDestinationConfig } from '../dispatch/destinations/folder';
export type ListenConfig = Config['listen'];
export type RetryConfig = Config['retry'];
export type RouteConfig = Config['routes'][number];
export type ClassifierConfig = Config['classifier'];
export type TaggingConfig = Config['tagging'];
export type HttpConfig = Config['http'];
