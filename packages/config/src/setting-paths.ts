import { z } from 'zod';
import { settingsSchema } from './schema.ts';

export type SettingPath = readonly string[];

function unwrap(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodPrefault || schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  return schema;
}

function leafPaths(schema: z.ZodType, prefix: SettingPath): SettingPath[] {
  const inner = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return [prefix];
  return Object.entries(inner.shape).flatMap(([key, child]) => leafPaths(child as z.ZodType, [...prefix, key]));
}

/** The path of every single setting (e.g. ["storage", "s3", "region"]), read from the schema. */
export const settingPaths: readonly SettingPath[] = leafPaths(settingsSchema, []);

export function isSettingPath(path: readonly PropertyKey[]): boolean {
  const key = path.join('.');
  return settingPaths.some((settingPath) => settingPath.join('.') === key);
}

/** The keys the schema knows directly under `path`, for suggesting what a misspelt key should be. */
export function keysUnder(path: readonly PropertyKey[]): string[] {
  const prefix = path.join('.');
  const keys = settingPaths
    .filter((settingPath) => settingPath.length > path.length && settingPath.slice(0, path.length).join('.') === prefix)
    .map((settingPath) => settingPath[path.length]!);
  return [...new Set(keys)];
}
