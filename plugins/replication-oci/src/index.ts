// Placeholder so the workspace builds; the adapter lands in this package.
export {};
