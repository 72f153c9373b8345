#include <stdio.h>

#include "plinth/plinth.h"

int main(void) {
    printf("%s\n", pl_version_string());
    return 0;
}
