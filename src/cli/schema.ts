import type { Command } from "commander";

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("Print the JSON Schema of the topology file (for editors: yaml-language-server, VS Code).")
    .action(async () => {
      const { topologyJsonSchema } = await import("../topology/schema.js");
      process.stdout.write(`${JSON.stringify(topologyJsonSchema(), null, 2)}\n`);
    });
}
