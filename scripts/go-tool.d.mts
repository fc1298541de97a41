export declare function goTool(moduleAtVersion: string): string;
export declare const GRPC_HEALTH_PROBE: string;
export declare const PROM2JSON: string;
