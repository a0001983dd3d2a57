// salon browser SDK, client: `only`, a request's data without the fields left out
// (undefined), shared by the request methods of client/*.js.

export function only(data) {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}
