import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** Schema pieces shared by the configuration and the destination types' own schemas. */

export const aeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]*[^ ][\x20-\x5b\x5d-\x7e]*$/, 'an AE title is 1-16 printable characters, no backslash, not all spaces');

/**
 * A file or folder the configuration names, made absolute as it is parsed: a relative path means
 * relative to the config file's folder, so a service started in / reads the same files as a shell.
 */
export function configPath(baseDir: string) {
  return z
    .string()
    .min(1)
    .transform((p) => (isAbsolute(p) ? p : resolve(baseDir, p)));
}

export type ConfigPathSchema = ReturnType<typeof configPath>;

/** Milliseconds. */
export const duration = z.number().int().nonnegative();

export const destinationName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a destination name is 1-64 letters, digits, _ or -');

/** Largest PDU announced or accepted (bytes). */
export const maxPduLength = z
  .number()
  .int()
  .min(4096)
  .max(16 * 1024 * 1024)
  .default(262144);
