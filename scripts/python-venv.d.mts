export declare function ensureVenv(requirementsFile: string): string;
