/* The subcommands. Each parses its arguments, wires through app/, and returns
 * an exit code. */
#ifndef SMPLAT_CMD_COMMANDS_H
#define SMPLAT_CMD_COMMANDS_H

int cmd_provider_replay(int argc, char **argv);
int cmd_provider_alerts(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_serve(int argc, char **argv, int demo);
int cmd_config_example(int argc, char **argv);
/* argv[0] is "export-runs"; its options follow. */
int cmd_export_runs(int argc, char **argv);
/* argv[0] is "worker" / "beat"; options follow (docs/CELERY.md). */
int cmd_worker(int argc, char **argv);
int cmd_beat(int argc, char **argv);

#endif
