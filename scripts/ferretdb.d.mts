export declare const FERRETDB_VERSION: string;
export declare function ferretdbBinaryPath(): string;
export declare function buildFerretDB(): string;
export declare function freePort(): Promise<number>;
export interface FerretDBHandle {
  uri: string;
  port: number;
  dir: string;
  pause(): void;
  resume(): void;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}
export declare function startFerretDB(options?: { dir?: string; port?: number }): Promise<FerretDBHandle>;
export declare function startMongoForTests(): Promise<{ uri: string; stop(): Promise<void> }>;
