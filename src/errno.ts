/*
 * The errno values the model returns, negated as the kernel returns them
 * (include/uapi/asm-generic/errno-base.h, errno.h).
 */
export const EINTR = -4;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EFAULT = -14;
export const EEXIST = -17;
export const EINVAL = -22;
