/* placeholder: to be written */
extern int smplat_placeholder_iso8601;
