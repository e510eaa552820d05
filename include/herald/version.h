/* version.h - herald's version. */
#ifndef HERALD_VERSION_H
#define HERALD_VERSION_H
#define HERALD_VERSION "0.1.0"
#endif
