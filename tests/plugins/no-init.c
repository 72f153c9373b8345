/* A shared library that is not a plinth plugin library. */
int pl_test_not_a_plugin(void);
int pl_test_not_a_plugin(void) { return 1; }
