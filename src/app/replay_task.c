/* placeholder: to be written */
extern int smplat_placeholder_replay_task;
