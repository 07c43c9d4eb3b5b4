// viewer.js is imported as text (`with { type: "text" }`) to be served: a string.
declare const text: string;
export default text;
