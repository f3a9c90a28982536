/* placeholder: to be written */
extern int smplat_placeholder_cmd_migrate;
