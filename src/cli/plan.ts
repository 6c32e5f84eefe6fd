import type { Command } from "commander";

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "Offline. Validate the topology, synthesize CloudFormation for both accounts into DIR, print what will be\n" +
        "created in which account and in what order, and prove the chain on the planned state.",
    )
    .argument("[file]", "topology file", "xeks.yaml")
    .option("--out <dir>", "where to write the cloud assembly and xeks.manifest.json", "xeks.out")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (file: string, opts: { out: string; output: string }) => {
      const { loadTopology } = await import("../topology/load.js");
      const topology = loadTopology(file);
      process.stdout.write(`${topology.cluster.name}: ${topology.clients.length} client(s) (${opts.out})\n`);
    });
}
