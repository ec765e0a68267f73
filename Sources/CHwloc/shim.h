#ifndef TESSERA_CHWLOC_SHIM_H
#define TESSERA_CHWLOC_SHIM_H
#include <hwloc.h>
#endif
