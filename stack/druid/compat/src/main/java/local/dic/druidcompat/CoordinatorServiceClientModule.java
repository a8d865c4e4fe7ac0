package local.dic.druidcompat;

import com.google.inject.Binder;
import com.google.inject.Provides;
import org.apache.druid.client.coordinator.Coordinator;
import org.apache.druid.discovery.NodeRole;
import org.apache.druid.guice.annotations.EscalatedGlobal;
import org.apache.druid.initialization.DruidModule;
import org.apache.druid.rpc.ServiceClient;
import org.apache.druid.rpc.ServiceClientFactory;
import org.apache.druid.rpc.ServiceLocator;
import org.apache.druid.rpc.StandardRetryPolicy;

/**
 * Test-stack shim, loaded by Druid through ServiceLoader (META-INF/services).
 *
 * <p>The registry only serves druid-basic-security 37.0.0, while druid-kafka-indexing-service
 * is only served at 33.0.0, so the stack runs Druid 33.0.0 core with the 37.0.0 security jar.
 * Its non-coordinator cache managers (used by peons) inject a {@code @Coordinator ServiceClient},
 * which Druid 33.0.0 does not bind (it only binds the {@code @Coordinator ServiceLocator}).
 * This module adds that one binding. Do not load it on Druid versions that bind it themselves.
 */
public class CoordinatorServiceClientModule implements DruidModule
{
  @Override
  public void configure(Binder binder)
  {
    // only the @Provides method below
  }

  @Provides
  @Coordinator
  public ServiceClient coordinatorServiceClient(
      @EscalatedGlobal ServiceClientFactory clientFactory,
      @Coordinator ServiceLocator coordinatorLocator
  )
  {
    return clientFactory.makeClient(
        NodeRole.COORDINATOR.getJsonName(),
        coordinatorLocator,
        StandardRetryPolicy.builder().maxAttempts(6).build()
    );
  }
}
