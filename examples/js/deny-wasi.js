// WASI 0.2 imports for the rules component that grant nothing.
//
// A Rust guest's standard library imports these interfaces (the component imports no
// filesystem, socket, clock or HTTP interface at all; see README.md). jco's
// @bytecodealliance/preview2-shim would back them with the real process: its
// environment variables, its stdin/stdout/stderr, a random seed. Here every one is a
// stub: no environment, no arguments, stdin at end of file, output discarded, a fixed
// "insecure" seed, and `exit` refused. The component is transpiled with
// `--instantiation sync`, so these objects are the only imports it can ever see.

export function denyAllWasi() {
  class IoError {
    toDebugString() {
      return 'denied';
    }
  }
  class Pollable {
    block() {}
  }
  class InputStream {} // no method of it is imported: nothing can be read
  class OutputStream {
    checkWrite() {
      return 65536n;
    }
    write(_bytes) {} // discarded
    blockingFlush() {}
    subscribe() {
      return new Pollable();
    }
  }
  class TerminalInput {}
  class TerminalOutput {}

  const stdin = new InputStream();
  const stdout = new OutputStream();
  const stderr = new OutputStream();

  const imports = {
    'wasi:cli/environment': { getEnvironment: () => [] },
    'wasi:cli/exit': {
      exit(status) {
        throw new Error(`the rules component called exit (${status?.tag})`);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/insecure-seed': { insecureSeed: () => [0x5eedn, 0x5eedn] },
  };
  // The generated code looks interfaces up without their version; its .d.ts names
  // them with it. Offer both.
  for (const name of Object.keys(imports)) imports[`${name}@0.2.6`] = imports[name];
  return imports;
}
