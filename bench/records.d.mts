// Types of bench/records.mjs, for the tests that use it.
export declare const INDEX_CAP: number;
export declare function generateRecords(home: string, count: number, targets?: ReadonlyArray<readonly string[]>): Promise<void>;
