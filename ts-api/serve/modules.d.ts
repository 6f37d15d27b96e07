// Modules that a worker bundle imports and leaves external: workerd hands them over as these types.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.artifact' {
  const bytes: ArrayBuffer;
  export default bytes;
}
