-- OOM kills (plan §8.2 "OOM kills"): the kernel's oom_kill counter from /proc/vmstat (Linux 4.13+),
-- read by the sysprobe fallback probe. A counter since boot, not a rate: the oom_kill rule compares
-- a machine's two latest samples (a smaller value means the machine rebooted). NULL where the
-- kernel has no such counter or the source does not read it (sysmoni).
ALTER TABLE sys_samples ADD COLUMN oom_kills BIGINT;
