package org.apache.druid.msq.guice;

import com.google.inject.Binder;
import org.apache.druid.initialization.DruidModule;

/**
 * Test-stack stand-in (our code, not Druid's): Druid 37.0.0's server commands construct
 * {@code org.apache.druid.msq.guice.MSQDurableStorageModule} directly, but the registry serves no
 * druid-multi-stage-query 37.0.0 jar. This class has the same name and binds nothing, so the
 * Coordinator/Overlord, MiddleManager and peons start without MSQ (no query_controller /
 * query_worker task types, no MSQ compaction engine). Never load it next to the real MSQ jar.
 */
public class MSQDurableStorageModule implements DruidModule
{
  @Override
  public void configure(Binder binder)
  {
    // nothing: MSQ is not available on this stack
  }
}
