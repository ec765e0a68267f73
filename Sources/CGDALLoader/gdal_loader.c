// GDAL, loaded when first used instead of linked: libgdal pulls in about 120 shared libraries, and linking
// them costs every tessera process some 35 MB of resident memory at start, GDAL used or not. Each
// function below has the exact prototype of gdal.h (the compiler checks it), resolves the real one with
// dlsym on first call, and returns 0 (NULL, CE_None…) when the library cannot be loaded: callers see that
// through `tessera_gdal_available`.
#include "CGDALLoader.h"

#include <dlfcn.h>
#include <pthread.h>

static void *gdal_library = NULL;
static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void gdal_open(void) {
    static const char *const candidates[] = {
        "libgdal.so", "libgdal.so.36", "libgdal.so.35", "libgdal.so.34", "libgdal.so.33", "libgdal.so.32", "libgdal.so.31", "libgdal.so.30",
    };
    for (unsigned i = 0; i < sizeof candidates / sizeof candidates[0] && gdal_library == NULL; i++) {
        gdal_library = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    }
}

int tessera_gdal_available(void) {
    pthread_once(&gdal_once, gdal_open);
    return gdal_library != NULL;
}

static void *gdal_symbol(const char *name) {
    return tessera_gdal_available() ? dlsym(gdal_library, name) : NULL;
}

// The resolved pointer is published atomically: racing first calls resolve the same address.
#define TESSERA_GDAL_RESOLVE(name) \
    static __typeof__(&name) cached_##name = NULL; \
    __typeof__(&name) fn = __atomic_load_n(&cached_##name, __ATOMIC_ACQUIRE); \
    if (fn == NULL) { \
        fn = (__typeof__(&name))gdal_symbol(#name); \
        __atomic_store_n(&cached_##name, fn, __ATOMIC_RELEASE); \
    }

void CPLQuietErrorHandler(CPLErr level, CPLErrorNum number, const char *message) {
    (void)level;
    (void)number;
    (void)message;
}

void CPLErrorReset(void) {
    TESSERA_GDAL_RESOLVE(CPLErrorReset);
    if (fn) fn();
}

const char * CPLGetLastErrorMsg(void) {
    TESSERA_GDAL_RESOLVE(CPLGetLastErrorMsg);
    return fn ? fn() : "";
}

CPLErr CPLGetLastErrorType(void) {
    TESSERA_GDAL_RESOLVE(CPLGetLastErrorType);
    return fn ? fn() : 0;
}

void CPLPopErrorHandler(void) {
    TESSERA_GDAL_RESOLVE(CPLPopErrorHandler);
    if (fn) fn();
}

void CPLPushErrorHandler(CPLErrorHandler a0) {
    TESSERA_GDAL_RESOLVE(CPLPushErrorHandler);
    if (fn) fn(a0);
}

void CPLSetConfigOption(const char * a0, const char * a1) {
    TESSERA_GDAL_RESOLVE(CPLSetConfigOption);
    if (fn) fn(a0, a1);
}

char * * CSLAddString(char **papszStrList, const char *pszNewString) {
    TESSERA_GDAL_RESOLVE(CSLAddString);
    return fn ? fn(papszStrList, pszNewString) : 0;
}

void CSLDestroy(char **papszStrList) {
    TESSERA_GDAL_RESOLVE(CSLDestroy);
    if (fn) fn(papszStrList);
}

char * * CSLSetNameValue(char **papszStrList, const char *pszName, const char *pszValue) {
    TESSERA_GDAL_RESOLVE(CSLSetNameValue);
    return fn ? fn(papszStrList, pszName, pszValue) : 0;
}

CPLErr GDALAddBand(GDALDatasetH hDS, GDALDataType eType, CSLConstList papszOptions) {
    TESSERA_GDAL_RESOLVE(GDALAddBand);
    return fn ? fn(hDS, eType, papszOptions) : 0;
}

void GDALAllRegister(void) {
    TESSERA_GDAL_RESOLVE(GDALAllRegister);
    if (fn) fn();
}

void GDALClose(GDALDatasetH hDS) {
    TESSERA_GDAL_RESOLVE(GDALClose);
    if (fn) fn(hDS);
}

GDALDatasetH GDALCreate(GDALDriverH hDriver, const char * a1, int a2, int a3, int a4, GDALDataType a5, CSLConstList a6) {
    TESSERA_GDAL_RESOLVE(GDALCreate);
    return fn ? fn(hDriver, a1, a2, a3, a4, a5, a6) : 0;
}

GDALColorTableH GDALCreateColorTable(GDALPaletteInterp a0) {
    TESSERA_GDAL_RESOLVE(GDALCreateColorTable);
    return fn ? fn(a0) : 0;
}

GDALDatasetH GDALCreateCopy(GDALDriverH a0, const char * a1, GDALDatasetH a2, int a3, CSLConstList a4, GDALProgressFunc a5, void * a6) {
    TESSERA_GDAL_RESOLVE(GDALCreateCopy);
    return fn ? fn(a0, a1, a2, a3, a4, a5, a6) : 0;
}

void GDALDestroyColorTable(GDALColorTableH a0) {
    TESSERA_GDAL_RESOLVE(GDALDestroyColorTable);
    if (fn) fn(a0);
}

const GDALColorEntry * GDALGetColorEntry(GDALColorTableH a0, int a1) {
    TESSERA_GDAL_RESOLVE(GDALGetColorEntry);
    return fn ? fn(a0, a1) : 0;
}

int GDALGetColorEntryCount(GDALColorTableH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetColorEntryCount);
    return fn ? fn(a0) : 0;
}

const char * GDALGetDataTypeName(GDALDataType a0) {
    TESSERA_GDAL_RESOLVE(GDALGetDataTypeName);
    return fn ? fn(a0) : 0;
}

GDALDriverH GDALGetDriverByName(const char * a0) {
    TESSERA_GDAL_RESOLVE(GDALGetDriverByName);
    return fn ? fn(a0) : 0;
}

int GDALGetGCPCount(GDALDatasetH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetGCPCount);
    return fn ? fn(a0) : 0;
}

CPLErr GDALGetGeoTransform(GDALDatasetH a0, double * a1) {
    TESSERA_GDAL_RESOLVE(GDALGetGeoTransform);
    return fn ? fn(a0, a1) : 0;
}

char * * GDALGetMetadata(GDALMajorObjectH a0, const char * a1) {
    TESSERA_GDAL_RESOLVE(GDALGetMetadata);
    return fn ? fn(a0, a1) : 0;
}

const char * GDALGetMetadataItem(GDALMajorObjectH a0, const char * a1, const char * a2) {
    TESSERA_GDAL_RESOLVE(GDALGetMetadataItem);
    return fn ? fn(a0, a1, a2) : 0;
}

const char * GDALGetProjectionRef(GDALDatasetH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetProjectionRef);
    return fn ? fn(a0) : 0;
}

GDALRasterBandH GDALGetRasterBand(GDALDatasetH a0, int a1) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterBand);
    return fn ? fn(a0, a1) : 0;
}

GDALColorTableH GDALGetRasterColorTable(GDALRasterBandH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterColorTable);
    return fn ? fn(a0) : 0;
}

int GDALGetRasterCount(GDALDatasetH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterCount);
    return fn ? fn(a0) : 0;
}

GDALDataType GDALGetRasterDataType(GDALRasterBandH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterDataType);
    return fn ? fn(a0) : 0;
}

double GDALGetRasterNoDataValue(GDALRasterBandH a0, int * a1) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterNoDataValue);
    return fn ? fn(a0, a1) : 0;
}

int GDALGetRasterXSize(GDALDatasetH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterXSize);
    return fn ? fn(a0) : 0;
}

int GDALGetRasterYSize(GDALDatasetH a0) {
    TESSERA_GDAL_RESOLVE(GDALGetRasterYSize);
    return fn ? fn(a0) : 0;
}

GDALDatasetH GDALOpenEx(const char *pszFilename, unsigned int nOpenFlags, const char *const *papszAllowedDrivers, const char *const *papszOpenOptions, const char *const *papszSiblingFiles) {
    TESSERA_GDAL_RESOLVE(GDALOpenEx);
    return fn ? fn(pszFilename, nOpenFlags, papszAllowedDrivers, papszOpenOptions, papszSiblingFiles) : 0;
}

CPLErr GDALRasterIO(GDALRasterBandH hRBand, GDALRWFlag eRWFlag, int nDSXOff, int nDSYOff, int nDSXSize, int nDSYSize, void *pBuffer, int nBXSize, int nBYSize, GDALDataType eBDataType, int nPixelSpace, int nLineSpace) {
    TESSERA_GDAL_RESOLVE(GDALRasterIO);
    return fn ? fn(hRBand, eRWFlag, nDSXOff, nDSYOff, nDSXSize, nDSYSize, pBuffer, nBXSize, nBYSize, eBDataType, nPixelSpace, nLineSpace) : 0;
}

void GDALSetColorEntry(GDALColorTableH a0, int a1, const GDALColorEntry * a2) {
    TESSERA_GDAL_RESOLVE(GDALSetColorEntry);
    if (fn) fn(a0, a1, a2);
}

CPLErr GDALSetGeoTransform(GDALDatasetH a0, double * a1) {
    TESSERA_GDAL_RESOLVE(GDALSetGeoTransform);
    return fn ? fn(a0, a1) : 0;
}

CPLErr GDALSetMetadataItem(GDALMajorObjectH a0, const char * a1, const char * a2, const char * a3) {
    TESSERA_GDAL_RESOLVE(GDALSetMetadataItem);
    return fn ? fn(a0, a1, a2, a3) : 0;
}

CPLErr GDALSetProjection(GDALDatasetH a0, const char * a1) {
    TESSERA_GDAL_RESOLVE(GDALSetProjection);
    return fn ? fn(a0, a1) : 0;
}

CPLErr GDALSetRasterColorTable(GDALRasterBandH a0, GDALColorTableH a1) {
    TESSERA_GDAL_RESOLVE(GDALSetRasterColorTable);
    return fn ? fn(a0, a1) : 0;
}

CPLErr GDALSetRasterNoDataValue(GDALRasterBandH a0, double a1) {
    TESSERA_GDAL_RESOLVE(GDALSetRasterNoDataValue);
    return fn ? fn(a0, a1) : 0;
}

const char * GDALVersionInfo(const char * a0) {
    TESSERA_GDAL_RESOLVE(GDALVersionInfo);
    return fn ? fn(a0) : 0;
}

void OCTDestroyCoordinateTransformation(OGRCoordinateTransformationH a0) {
    TESSERA_GDAL_RESOLVE(OCTDestroyCoordinateTransformation);
    if (fn) fn(a0);
}

OGRCoordinateTransformationH OCTNewCoordinateTransformation(OGRSpatialReferenceH hSourceSRS, OGRSpatialReferenceH hTargetSRS) {
    TESSERA_GDAL_RESOLVE(OCTNewCoordinateTransformation);
    return fn ? fn(hSourceSRS, hTargetSRS) : 0;
}

int OCTTransform(OGRCoordinateTransformationH hCT, int nCount, double *x, double *y, double *z) {
    TESSERA_GDAL_RESOLVE(OCTTransform);
    return fn ? fn(hCT, nCount, x, y, z) : 0;
}

OGRErr OSRAutoIdentifyEPSG(OGRSpatialReferenceH hSRS) {
    TESSERA_GDAL_RESOLVE(OSRAutoIdentifyEPSG);
    return fn ? fn(hSRS) : 0;
}

void OSRDestroySpatialReference(OGRSpatialReferenceH a0) {
    TESSERA_GDAL_RESOLVE(OSRDestroySpatialReference);
    if (fn) fn(a0);
}

OGRErr OSRExportToWkt(OGRSpatialReferenceH a0, char ** a1) {
    TESSERA_GDAL_RESOLVE(OSRExportToWkt);
    return fn ? fn(a0, a1) : 0;
}

const char * OSRGetAuthorityCode(OGRSpatialReferenceH hSRS, const char *pszTargetKey) {
    TESSERA_GDAL_RESOLVE(OSRGetAuthorityCode);
    return fn ? fn(hSRS, pszTargetKey) : 0;
}

const char * OSRGetAuthorityName(OGRSpatialReferenceH hSRS, const char *pszTargetKey) {
    TESSERA_GDAL_RESOLVE(OSRGetAuthorityName);
    return fn ? fn(hSRS, pszTargetKey) : 0;
}

OGRErr OSRImportFromEPSG(OGRSpatialReferenceH a0, int a1) {
    TESSERA_GDAL_RESOLVE(OSRImportFromEPSG);
    return fn ? fn(a0, a1) : 0;
}

OGRSpatialReferenceH OSRNewSpatialReference(const char * a0) {
    TESSERA_GDAL_RESOLVE(OSRNewSpatialReference);
    return fn ? fn(a0) : 0;
}

void OSRSetAxisMappingStrategy(OGRSpatialReferenceH hSRS, OSRAxisMappingStrategy strategy) {
    TESSERA_GDAL_RESOLVE(OSRSetAxisMappingStrategy);
    if (fn) fn(hSRS, strategy);
}

void VSIFree(void * a0) {
    TESSERA_GDAL_RESOLVE(VSIFree);
    if (fn) fn(a0);
}
