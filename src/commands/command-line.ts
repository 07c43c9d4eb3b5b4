import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseHostPort, parsePort } from "../socket/address.ts";

/** A mistake in how udpvid was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** May be given more than once; the values come as a list. */
  multiple?: boolean;
  /** Shown in --help as `--name VALUE`. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  positionals: number;
  footer?: string;
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses argv strictly with node:util's parseArgs, turning its errors into one-line reasons. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const options: ParseArgsConfig["options"] = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(spec, argv), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(explainParseError(error));
  }
  if (parsed.positionals.length > spec.positionals) {
    throw new UsageError(`unexpected argument "${parsed.positionals[spec.positionals]}"`);
  }
  return { values: parsed.values as ParsedCommand["values"], positionals: parsed.positionals };
}

/**
 * parseArgs reads "--width -5" as an option missing its value; joined as
 * "--width=-5" the value reaches the range check, which says what is wrong.
 */
function joinNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i]!)?.[1];
    const next = argv[i + 1];
    if (name && spec.options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

function explainParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const option = /'(-[^']*)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    const flag = option.replace(/ <value>$/, "").split(", ").at(-1)!;
    return message.includes("does not take") ? `option ${flag} takes no value` : `option ${flag} needs a value`;
  }
  return message.split(". ")[0]!;
}

export function formatHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.value ? ` ${option.value}` : ""}`;
    return [flag, option.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const lines = [`Usage: ${spec.usage}`, "", spec.summary, "", "Options:", ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`)];
  if (spec.footer) lines.push("", spec.footer);
  return lines.join("\n");
}

// Value checks: each returns the parsed value or throws a UsageError naming the option.

export function intOption(values: ParsedCommand["values"], name: string, min: number, max: number): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (typeof text !== "string" || !/^-?\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${String(text)}"`);
  }
  return value;
}

export function numberOption(values: ParsedCommand["values"], name: string, min: number, max: number): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (typeof text !== "string" || text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${String(text)}"`);
  }
  return value;
}

export function choiceOption<T extends string>(values: ParsedCommand["values"], name: string, choices: readonly T[]): T | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  if (!choices.includes(text as T)) throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${String(text)}"`);
  return text as T;
}

export function stringOption(values: ParsedCommand["values"], name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** Every value of an option that may be repeated. */
export function stringListOption(values: ParsedCommand["values"], name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

/** A HOST:PORT option, checked (names are resolved later, when used). */
export function hostPortOption(values: ParsedCommand["values"], name: string): string | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  try {
    parseHostPort(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
  return text;
}

/** HOST:PORT[,HOST:PORT...]: several destinations in one option, each checked. */
export function hostPortListOption(values: ParsedCommand["values"], name: string): string[] | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const items = text.split(",").map((item) => item.trim());
  for (const item of items) {
    try {
      parseHostPort(item);
    } catch (error) {
      throw new UsageError(`--${name}: ${(error as Error).message}`);
    }
  }
  return items;
}

/** A UDP port option; 0 (let the OS pick) is allowed for ports we listen on. */
export function portOption(values: ParsedCommand["values"], name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  try {
    return parsePort(text, true);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}
