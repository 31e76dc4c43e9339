import { z } from 'zod';
import { aeTitle, ConfigPathSchema, destinationName, duration, maxPduLength } from '../../config/fields';
import { findTransferSyntax } from '../../dicom/transfer-syntax';
import { DimseSender } from '../dimse-sender';
import { DestinationType } from './destination-type';

const destinationTlsSchema = (path: ConfigPathSchema) =>
  z
    .object({
      /** CA bundle that signs the destination's certificate (default: the system's). */
      ca: path.optional(),
      /** Client certificate and key, for destinations that require one. */
      cert: path.optional(),
      key: path.optional(),
      /** Verify the destination's certificate (leave on outside of tests). */
      rejectUnauthorized: z.boolean().default(true),
      /** Name to check the certificate against (default: host). */
      servername: z.string().min(1).optional(),
    })
    .strict();

/** A DICOM peer: C-STORE over associations bodyroute opens (dimse-sender.ts). */
export const dimseSchema = (path: ConfigPathSchema) =>
  z
    .object({
      name: destinationName,
      type: z.literal('dimse'),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      aeTitle,
      /** Calling AE title bodyroute uses towards this destination (default: listen.aeTitle). */
      callingAeTitle: aeTitle.optional(),
      connectTimeoutMs: duration.default(10000),
      /** How long to wait for each C-STORE response (ms). */
      responseTimeoutMs: duration.default(60000),
      /** Keep an idle association open this long for the next object (ms). */
      idleReleaseMs: duration.default(2000),
      maxPduLength,
      /** Associations used at once towards this destination (objects are then not delivered strictly in order). */
      associations: z.number().int().min(1).max(16).default(1),
      /** DICOM TLS towards this destination; absent = plain TCP. */
      tls: destinationTlsSchema(path).optional(),
      /**
       * Transfer syntaxes the destination takes (UIDs). Absent: whatever it accepts at association.
       * An object in another syntax is decompressed to Explicit VR Little Endian when that is listed.
       */
      transferSyntaxes: z
        .array(
          z.string().refine(
            (uid) => findTransferSyntax(uid) !== undefined,
            (uid) => ({ message: `"${uid}" is not a transfer syntax bodyroute knows` }),
          ),
        )
        .min(1)
        .optional(),
    })
    .strict();

export type DimseDestinationConfig = z.infer<ReturnType<typeof dimseSchema>>;
export type DestinationTlsConfig = z.infer<ReturnType<typeof destinationTlsSchema>>;

export const dimseDestination: DestinationType<DimseDestinationConfig> = {
  type: 'dimse',
  lanes: (d) => d.associations,
  idleReleaseMs: (d) => d.idleReleaseMs,
  createSender: (d, ctx) => new DimseSender(d, ctx.callingAeTitle, ctx.log),
};
